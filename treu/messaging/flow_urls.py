from django.urls import path

from treu.messaging import flow_views as views

urlpatterns = [
    path("automations/", views.flow_list, name="flow_list"),
    path("automations/<int:flow_id>/", views.flow_detail, name="flow_detail"),
    path("automations/<int:flow_id>/switch/", views.flow_switch, name="flow_switch"),
    path("automations/<int:flow_id>/edit/", views.flow_edit, name="flow_edit"),
    path("automations/<int:flow_id>/steps/<int:step_id>/", views.step_edit, name="flow_step_edit"),
    path("tasks/", views.task_list, name="task_list"),
    path("tasks/<int:task_id>/done/", views.task_done, name="task_done"),
]
